variable "page" {
  type    = number
  default = "ten" # ERROR: Invalid default value for variable
}

environment "source" {
  provider = "ldif"
  base_dn  = ["DC=source,DC=test"] # ERROR: Incorrect attribute value type
  include  = "users"               # ERROR: Unsuitable value type
  scope {
    include_ous = "OU=Staff,DC=source,DC=test" # ERROR: Incorrect attribute value type
  }
}

environment "target" {
  provider = "ldif"
  base_dn  = "DC=target,DC=test"
}

workflow "devices" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match"]
  match { devices = ["sAMAccountName"] }
  template {
    devices {
      target_ou = "OU=Workstations,DC=target,DC=test"
      mode      = "copy" # ERROR: Invalid template mode
    }
  }
}

device_cutover "wave1" {
  workflow   = workflow.devices
  actions    = ["reacl", "cutover", "reboot"] # ERROR: Invalid device action
  batch_size = "lots"                         # ERROR: Invalid batch_size
  not_before = "next friday"                  # ERROR: Invalid not_before time
}
