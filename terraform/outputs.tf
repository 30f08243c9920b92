output "vhost" {
  description = "Virtual host of the topology and the permissions."
  value       = local.vhost
}

output "status_exchange" {
  description = "Fanout exchange of the progress reports (runtime-internal)."
  value       = rabbitmq_exchange.status.name
}

output "exchanges" {
  description = "Per function: the exchange producers' events go to (through the gate, which picks the partition)."
  value       = { for name, e in rabbitmq_exchange.function : name => e.name }
}

output "partition_queues" {
  description = "Per function: its partition queues, in index order."
  value       = { for name, f in local.topology.functions : name => [for key in f.partitions : rabbitmq_queue.partition[key].name] }
}

output "dead_letter_exchanges" {
  description = "Per function: its dead-letter exchange."
  value       = { for name, e in rabbitmq_exchange.dead_letter : name => e.name }
}

output "dead_letter_queues" {
  description = "Per function: its dead-letter queue (classic, capped at limits.deadLetterMax)."
  value       = { for name, q in rabbitmq_queue.dead_letter : name => q.name }
}

output "retry_exchanges" {
  description = "Per function in retry mode relaxed: the headers exchange of its delay queues."
  value       = { for name, e in rabbitmq_exchange.retry : name => e.name }
}

output "delay_queues" {
  description = "Per function in retry mode relaxed: its delay queues, level 1 first."
  value = {
    for name, f in local.topology.functions : name => [for key in f.delay_queues : rabbitmq_queue.delay[key].name] if length(f.delay_queues) > 0
  }
}

output "users" {
  description = "User name per role: gate, and fn-<function> for each function (created when create_users is true); keda when create_keda_user is true."
  value       = merge(local.user_names, var.create_keda_user ? { keda = "${var.user_name_prefix}keda" } : {})
}

output "permissions" {
  description = "Per user name: the configure, write and read regexes it holds on the vhost (users.tf says what each allows)."
  value       = { for role, p in local.permissions : local.user_names[role] => p }
}

output "runtime_settings" {
  description = "Per role (gate, fn-<function>): its user, and the environment of the process running it against this topology, besides RABBITMQ_URL (amqp://<user>:<password>@<host>:5672/<vhost, URL-encoded>) and, for the admin endpoints, EVENTLINE_ADMIN_TOKEN. The runtime verifies the topology, it does not declare it."
  value = merge(
    {
      gate = {
        user = local.user_names.gate
        environment = merge({
          EVENTLINE_TOPOLOGY_DECLARE  = "false"
          EVENTLINE_GATE_ENABLED      = "true"
          EVENTLINE_FUNCTIONS_ENABLED = "none"
          EVENTLINE_ADMIN_ENABLED     = tostring(var.admin_enabled)
        }, var.prefix != "" ? { EVENTLINE_TOPOLOGY_PREFIX = var.prefix } : {})
      }
    },
    {
      for name, f in local.topology.functions : "fn-${name}" => {
        user = local.user_names["fn-${name}"]
        environment = merge({
          EVENTLINE_TOPOLOGY_DECLARE  = "false"
          EVENTLINE_GATE_ENABLED      = "false"
          EVENTLINE_FUNCTIONS_ENABLED = name
        }, var.prefix != "" ? { EVENTLINE_TOPOLOGY_PREFIX = var.prefix } : {})
      }
    }
  )
}
