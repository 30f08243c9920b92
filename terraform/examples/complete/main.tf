# A working root module: the eventline topology and users for the functions of this repository.
#
#   export RABBITMQ_ENDPOINT=http://rabbitmq:15672 RABBITMQ_USERNAME=admin RABBITMQ_PASSWORD=...
#   terraform init && terraform apply -var gate_password=... -var 'function_passwords={orders="...",notifications="..."}'
#
# The provider talks to the management HTTP API (plugin rabbitmq_management) as an administrator. See
# README.md in this folder.

terraform {
  required_version = ">= 1.3"

  required_providers {
    rabbitmq = {
      source  = "cyrilgdn/rabbitmq"
      version = "~> 1.10"
    }
  }
}

# endpoint, username and password come from RABBITMQ_ENDPOINT, RABBITMQ_USERNAME and RABBITMQ_PASSWORD, so
# that no credential is written into the configuration.
provider "rabbitmq" {}

variable "topology_file" {
  description = "The topology file (./mvnw -q -Pmanifests process-test-classes writes it); null: the module's topology.json, the repository's functions."
  type        = string
  default     = null
}

variable "prefix" {
  description = "Prefix of every exchange and queue name (EVENTLINE_TOPOLOGY_PREFIX of the runtime)."
  type        = string
  default     = ""
}

variable "vhost" {
  description = "Virtual host (the vhost of the runtime's RABBITMQ_URL)."
  type        = string
  default     = "/"
}

variable "create_vhost" {
  description = "Create the virtual host."
  type        = bool
  default     = false
}

variable "gate_password" {
  description = "Password of the gate user."
  type        = string
  default     = null
  sensitive   = true
}

variable "function_passwords" {
  description = "Password of each function's user, by function name."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "user_name_prefix" {
  description = "Stem of the user names (<stem>gate, <stem>fn-<function>); users are broker-wide."
  type        = string
  default     = "eventline-"
}

variable "create_keda_user" {
  description = "Create the monitoring user for KEDA's scaler (plain containers with KEDA)."
  type        = bool
  default     = false
}

variable "keda_password" {
  description = "Password of the KEDA user."
  type        = string
  default     = null
  sensitive   = true
}

variable "runtime_verifies_topology" {
  description = "Grant the runtime users configure on the topology, so that their verification also compares arguments (see the module)."
  type        = bool
  default     = false
}

module "eventline" {
  source = "../.."

  topology_file      = var.topology_file
  prefix             = var.prefix
  vhost              = var.vhost
  create_vhost       = var.create_vhost
  gate_password      = var.gate_password
  function_passwords = var.function_passwords

  user_name_prefix          = var.user_name_prefix
  runtime_verifies_topology = var.runtime_verifies_topology
  create_keda_user          = var.create_keda_user
  keda_password             = var.keda_password
}

output "exchanges" {
  description = "Per function: the exchange its events are published to."
  value       = module.eventline.exchanges
}

output "partition_queues" {
  description = "Per function: its partition queues."
  value       = module.eventline.partition_queues
}

output "dead_letter_queues" {
  description = "Per function: its dead-letter queue."
  value       = module.eventline.dead_letter_queues
}

output "delay_queues" {
  description = "Per function in retry mode relaxed: its delay queues."
  value       = module.eventline.delay_queues
}

output "status_exchange" {
  description = "The progress-report exchange."
  value       = module.eventline.status_exchange
}

output "users" {
  description = "User name per role."
  value       = module.eventline.users
}

output "permissions" {
  description = "Per user: its configure, write and read regexes."
  value       = module.eventline.permissions
}

output "runtime_settings" {
  description = "Per role: its user and the environment of its process."
  value       = module.eventline.runtime_settings
}
