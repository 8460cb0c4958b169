# adshift benchmark configuration, written by bench/genestate next to the
# generated source.ldif and target.ldif; bench/plan.sh times `adshift plan` on it.

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
  base_dn  = "DC=target,DC=test"
  include  = ["users", "groups", "devices"]
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
      mode      = "create_or_update"
      attributes = {
        sAMAccountName    = source.sAMAccountName
        userPrincipalName = "${source.sAMAccountName}@target.test"
        givenName         = source.givenName
        sn                = source.sn
        displayName       = source.displayName
        mail              = source.mail
        department        = source.department
      }
    }
    groups {
      target_ou = "OU=Groups,OU=Migrated,DC=target,DC=test"
      attributes = { sAMAccountName = source.sAMAccountName, description = source.description }
    }
  }
}

workflow "devices" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match"]
  match { devices = ["sAMAccountName"] }
  template {
    devices { target_ou = "OU=Workstations,OU=Migrated,DC=target,DC=test" }
  }
}

device_cutover "wave-1" {
  workflow = workflow.devices
  devices {
    ous = ["OU=Workstations,OU=Corp,DC=source,DC=test"]
  }
  actions = ["reacl", "cutover"]
}
