environment "source" {
  provider = "ldif"
  base_dn  = "DC=source,DC=test"
  include  = ["users", "grups"] # ERROR: Invalid object kind
}

environment "target" {
  provider = "ldif"
  base_dn  = "DC=target,DC=test"
}

workflow "identities" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match", "stage", "write"]
  match {
    users = ["mail", "sAMAccountName"]
  }
  template {
    users { # ERROR: Missing target_ou
      taget_ou = "OU=Staff,DC=target,DC=test" # ERROR: Unsupported argument
      mode     = "create_or_update"
    }
  }
}
