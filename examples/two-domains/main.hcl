# adshift against live Active Directory: the lab's two Samba AD domain
# controllers (lab/up.sh), source.test on 127.0.0.2 and target.test on
# 127.0.0.3. Credentials come from variables, never from files:
#
#   eval "$(lab/env.sh)"                       # ADSHIFT_LAB_* for the lab
#   export ADSHIFT_VAR_source_password="$ADSHIFT_LAB_PASSWORD"
#   export ADSHIFT_VAR_target_password="$ADSHIFT_LAB_PASSWORD"
#   examples/two-domains/seed.sh               # put OU=Corp into source.test
#   adshift -chdir=examples/two-domains plan

variable "source_password" {
  type        = string
  sensitive   = true
  description = "Password of Administrator@SOURCE.TEST."
}

variable "target_password" {
  type        = string
  sensitive   = true
  description = "Password of Administrator@TARGET.TEST."
}

variable "lab_dir" {
  type        = string
  default     = "../../lab/.run"
  description = "Where lab/up.sh keeps the lab CAs."
}

environment "source" {
  provider = "ad"
  domain   = "source.test"
  base_dn  = "DC=source,DC=test"
  servers  = ["ldaps://127.0.0.2:636"]
  bind {
    username = "Administrator@SOURCE.TEST"
    password = var.source_password
  }
  tls { ca_file = "${var.lab_dir}/source-ca.pem" }
  scope {
    include_ous = ["OU=Corp,DC=source,DC=test"]
    exclude_ous = ["OU=Kiosks,OU=Workstations,OU=Corp,DC=source,DC=test"]
  }
  include = ["users", "groups", "devices"]
}

environment "target" {
  provider = "ad"
  domain   = "target.test"
  base_dn  = "DC=target,DC=test"
  servers  = ["ldaps://127.0.0.3:636"]
  bind {
    username = "Administrator@TARGET.TEST"
    password = var.target_password
  }
  tls { ca_file = "${var.lab_dir}/target-ca.pem" }
  # Only the migrated tree is read: before the first apply it does not exist
  # yet, and the target then holds nothing to match.
  scope {
    include_ous = ["OU=Migrated,DC=target,DC=test"]
  }
  include = ["users", "groups", "devices"]
  new_users { password = "disabled" }
}

workflow "identities" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match", "stage", "write"]
  match {
    users  = ["mail", "sAMAccountName"]
    groups = ["sAMAccountName"]
  }
  template {
    users {
      target_ou = "OU=Users,OU=Migrated,DC=target,DC=test"
      attributes = {
        sAMAccountName    = source.sAMAccountName
        userPrincipalName = "${lower(source.sAMAccountName)}@target.test"
        givenName         = source.givenName
        sn                = source.sn
        displayName       = source.displayName
        mail              = source.mail
        department        = source.department
        title             = source.title
      }
    }
    groups {
      target_ou = "OU=Groups,OU=Migrated,DC=target,DC=test"
      attributes = {
        sAMAccountName = source.sAMAccountName
        description    = source.description
      }
    }
  }
}

workflow "devices" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match", "stage", "write"]
  match { devices = ["sAMAccountName"] }
  template {
    devices {
      target_ou  = "OU=Workstations,OU=Migrated,DC=target,DC=test"
      attributes = { sAMAccountName = source.sAMAccountName }
    }
  }
}

device_cutover "wave-1" {
  workflow   = workflow.devices
  identities = workflow.identities
  devices {
    ous = ["OU=Workstations,OU=Corp,DC=source,DC=test"]
  }
  actions = ["reacl", "cutover"]
}
