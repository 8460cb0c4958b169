environment "source" {
  provider = "ldif"
  base_dn  = "DC=source,DC=test"
}

environment "target" {
  provider = "ldif"
  base_dn  = "DC=target,DC=test"
}

workflow "identities" {
  source = environment.sorce  # ERROR: Reference to undeclared environment
  target = environment.target
  template {
    users {
      target_ou  = "OU=${var.ou_name},DC=target,DC=test" # ERROR: Unsupported attribute
      attributes = {
        displayName = local.display # ERROR: Unsupported attribute
      }
    }
  }
}

workflow "devices" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match"]
  match { devices = ["sAMAccountName"] }
}

device_cutover "wave1" {
  workflow   = workflow.device   # ERROR: Reference to undeclared workflow
  identities = environment.source # ERROR: Invalid reference
  actions    = ["offline_domain_join", "cutover"] # ERROR: Missing repository
}

device_cutover "wave2" {
  workflow = workflow.identities # ERROR: Workflow does not carry devices
  actions  = ["cutover"]
}
