adshift {
  required_version = ">= 0.1"
  backend "local" { path = "adshift.state" }
}

variable "proxy_password" {
  type      = string
  sensitive = true
  default   = "not-a-real-secret"
}

variable "target_base" {
  type    = string
  default = "DC=target,DC=test"
}

locals {
  migrated = "OU=Migrated,${var.target_base}"
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
  base_dn  = var.target_base
}

workflow "identities" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match", "stage", "write"]
  match {
    users  = ["mail", "employeeID=employeeNumber", "sAMAccountName"]
    groups = ["sAMAccountName"]
  }
  template {
    users {
      target_ou = "OU=Users,${local.migrated}"
      attributes = {
        sAMAccountName    = source.sAMAccountName
        userPrincipalName = "${lower(source.sAMAccountName)}@target.test"
        displayName       = coalesce(source.displayName, source.cn)
      }
      on_source_removed = "disable"
    }
    groups {
      target_ou = "OU=Groups,${local.migrated}"
      mode      = "create_only"
    }
  }
}

workflow "devices" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match"]
  match { devices = ["sAMAccountName"] }
  template {
    devices {
      target_ou = "OU=Workstations,${local.migrated}"
      mode      = "match_only"
    }
  }
}

repository "share" { path = "\\\\fs01.target.test\\migration$" }

proxy "corp" {
  url      = "http://proxy.target.test:3128"
  username = "svc-proxy"
  password = var.proxy_password
}

device_cutover "wave-1" {
  workflow   = workflow.devices
  identities = workflow.identities
  devices {
    ous    = ["OU=Finance,OU=Workstations,OU=Corp,DC=source,DC=test"]
    names  = ["WS-*"]
    filter = !startswith(source.operatingSystem, "Windows Server")
  }
  actions    = ["cache_credentials", "reacl", "offline_domain_join", "cutover"]
  repository = repository.share
  proxy      = proxy.corp
  not_before = "2026-12-05T22:00:00Z"
  batch_size = 25
  reacl { mode = "add" }
  requirements {
    trust = true
  }
}
