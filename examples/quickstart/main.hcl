# adshift quickstart: migrate a small estate from source.test to target.test.
#
# Both domains are LDIF snapshots (as `ldifde -f` writes them), served by the
# embedded ldif provider, so this runs anywhere without a domain controller.
# See README.md in this folder for a walk-through.

adshift {
  backend "local" { path = "adshift.state" }
}

variable "target_base_dn" {
  type        = string
  default     = "DC=target,DC=test"
  description = "Naming context of the target domain."
  validation {
    condition     = startswith(lower(var.target_base_dn), "dc=")
    error_message = "target_base_dn must be a domain naming context such as DC=target,DC=test."
  }
}

variable "proxy_password" {
  type        = string
  sensitive   = true
  default     = ""
  description = "Password of the web proxy the device agents use (never stored)."
}

locals {
  migrated = "OU=Migrated,${var.target_base_dn}"
}

environment "source" {
  provider = "ldif"
  file     = "source.ldif"
  domain   = "source.test"
  base_dn  = "DC=source,DC=test"
  scope {
    include_ous = ["OU=Corp,DC=source,DC=test"]
    exclude_ous = ["OU=Kiosks,OU=Workstations,OU=Corp,DC=source,DC=test"]
  }
  include = ["users", "groups", "devices"]
}

environment "target" {
  provider = "ldif"
  file     = "target.ldif"
  domain   = "target.test"
  base_dn  = var.target_base_dn
  include  = ["users", "groups", "devices"]
}

workflow "identities" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match", "stage", "write"]

  # Ordered: a user is matched by mail first, then by sAMAccountName.
  match {
    users  = ["mail", "sAMAccountName"]
    groups = ["sAMAccountName"]
  }

  template {
    users {
      target_ou = "OU=Users,${local.migrated}"
      mode      = "create_or_update"
      attributes = {
        sAMAccountName    = source.sAMAccountName
        userPrincipalName = "${lower(source.sAMAccountName)}@target.test"
        givenName         = source.givenName
        sn                = source.sn
        displayName       = source.displayName
        mail              = source.mail
        department        = source.department
        title             = source.title
        employeeID        = source.employeeID
      }
    }
    groups {
      target_ou = "OU=Groups,${local.migrated}"
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

  # Pre-stage a computer account in the target for every workstation.
  template {
    devices {
      target_ou = "OU=Workstations,${local.migrated}"
      attributes = {
        sAMAccountName = source.sAMAccountName
        dNSHostName    = replace(lower(coalesce(source.dNSHostName, "")), ".source.test", ".target.test")
      }
    }
  }
}

repository "odj" {
  path = "\\\\fs01.target.test\\migration$"
}

proxy "corp" {
  url      = "http://proxy.target.test:3128"
  username = "svc-agents"
  password = var.proxy_password
}

device_cutover "wave-1" {
  workflow   = workflow.devices
  identities = workflow.identities
  devices {
    ous = ["OU=Workstations,OU=Corp,DC=source,DC=test"]
  }
  actions    = ["cache_credentials", "reacl", "offline_domain_join", "cutover", "upload_logs"]
  repository = repository.odj
  proxy      = proxy.corp
  not_before = "2030-12-05T22:00:00Z"
  batch_size = 10
  reacl { mode = "add" }
  # An LDIF export holds no trusts (they live under CN=System): state the
  # trust by hand. With the ad provider, leave this out and the plan reads
  # the source → target trust from the source directory.
  requirements {
    trust = true
  }
}

device_cutover "servers" {
  workflow   = workflow.devices
  identities = workflow.identities
  devices {
    ous = ["OU=Servers,OU=Corp,DC=source,DC=test"]
  }
  actions = ["reacl", "cutover"]
}
