variable "topology_file" {
  description = "The topology to create: a JSON file written by ./mvnw -q -Pmanifests process-test-classes from the function descriptions (functions/<name>/function.yaml); null: topology.json beside this module, the repository's functions. A relative path is relative to the directory Terraform runs in."
  type        = string
  default     = null
}

variable "prefix" {
  description = "Prefix of every exchange and queue name: the runtime's eventline.topology.prefix (EVENTLINE_TOPOLOGY_PREFIX). Letters, digits, '.', '_' and '-' only, so that it can be escaped into the users' permission regexes."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]*$", var.prefix))
    error_message = "The prefix may hold only letters, digits, '.', '_' and '-' (it is escaped into permission regexes)."
  }
}

variable "vhost" {
  description = "Virtual host of the topology and of the users' permissions (the vhost in RABBITMQ_URL)."
  type        = string
  default     = "/"
}

variable "create_vhost" {
  description = "Create the virtual host (true) or use an existing one (false)."
  type        = bool
  default     = false
}

variable "leader_locator_policy" {
  description = "Add a policy that places the leaders of the partition and delay quorum queues evenly over the cluster's nodes (queue-leader-locator: balanced)."
  type        = bool
  default     = true
}

variable "policy_priority" {
  description = "Priority of the policy above. RabbitMQ applies one policy per queue, the one of highest priority: raise this above any catch-all policy of the vhost, or set leader_locator_policy = false and cover the queues in your own."
  type        = number
  default     = 10
}

variable "create_users" {
  description = "Create one user per function (its queue trigger) and one for the gate, with the permissions in the output permissions. With false, only the output is given, to apply to users managed elsewhere."
  type        = bool
  default     = true
}

variable "user_name_prefix" {
  description = "Stem of the user names: <stem>gate and <stem>fn-<function>. Users are broker-wide, not per vhost: give each deployment on one broker its own stem."
  type        = string
  default     = "eventline-"
}

variable "gate_password" {
  description = "Password of the gate user (required when create_users is true). Kept in the Terraform state like every password the provider manages."
  type        = string
  default     = null
  sensitive   = true
}

variable "function_passwords" {
  description = "Passwords of the function users by function name, e.g. { orders = \"...\" } (one for every function when create_users is true)."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "runtime_verifies_topology" {
  description = "Grant every runtime user configure on every function's exchanges and queues, so that its verification (EVENTLINE_TOPOLOGY_DECLARE=false) also compares their types and arguments: it re-declares each one, which RabbitMQ authorises as configure even when it exists and is equivalent. Configure also permits deleting them. Without it (the default) the runtime checks that each exists and leaves the arguments to Terraform."
  type        = bool
  default     = false
}

variable "admin_enabled" {
  description = "The gate serves the admin endpoints (eventline.admin.enabled): it may read and remove dead-lettered events (list, replay, purge) and create and delete the pause markers <fn>.paused."
  type        = bool
  default     = true
}

variable "gate_may_repartition" {
  description = "The gate may run POST /admin/functions/<fn>/repartition (delete and declare partition queues and bindings). Off by default: with Terraform the partition count changes with terraform apply (docs/partitions.md, section Changing the partition count). On, the gate user holds configure, write and read on every function's topology, so it could also consume partitions."
  type        = bool
  default     = false
}

variable "create_keda_user" {
  description = "Create the user KEDA's RabbitMQ scaler reads the partition queues' depths with: <stem>keda, tag management (HTTP API only), access to the vhost but to no exchange or queue over AMQP."
  type        = bool
  default     = false
}

variable "keda_password" {
  description = "Password of the KEDA user (required when create_keda_user is true)."
  type        = string
  default     = null
  sensitive   = true
}
