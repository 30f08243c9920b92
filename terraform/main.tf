# The broker topology of every function: exactly what the runtime declares (src/main/java/dev/eventline/topology/
# TopologySpec.java), read from topology.json. That file is generated from functions/<name>/function.yaml by the
# runtime's own code (./mvnw -q -Pmanifests process-test-classes; TerraformTopologyTest fails while it is stale),
# so this module computes nothing: every resource is a for_each over one of its maps, and the module only puts
# var.prefix before the names. Not here, because they exist only while something runs: the partition locks
# <fn>-<i>.owner (exclusive queues of the instance owning the partition), the pause markers <fn>.paused
# (bin/eventline-admin pause) and the server-named amq.gen-* queues the progress reports are read from; users.tf
# lets the runtime create them.

locals {
  topology = jsondecode(file(coalesce(var.topology_file, "${path.module}/topology.json")))
  vhost    = var.create_vhost ? rabbitmq_vhost.this[0].name : var.vhost

  # The descriptions beside the module (the repository's functions/), hashed as topology.json's generator does
  # (TopologyFile.sha256): with the module's own topology.json, a description changed without regenerating it
  # stops the plan instead of applying the old topology.
  descriptions        = "${path.module}/../functions"
  descriptions_sha256 = try(sha256(join("", [for f in sort(fileset(local.descriptions, "*/function.yaml")) : filesha256("${local.descriptions}/${f}")])), "")
}

resource "rabbitmq_vhost" "this" {
  count = var.create_vhost ? 1 : 0
  name  = var.vhost
}

# The status exchange (broker/StatusExchange.java): every process running a function publishes its progress
# here; gates and the function's other instances read it. Durable fanout; with EVENTLINE_TOPOLOGY_DECLARE=false
# the runtime only checks that it exists (passive), so its users need no configure right on it.
resource "rabbitmq_exchange" "status" {
  name  = "${var.prefix}${local.topology.status_exchange}"
  vhost = local.vhost

  settings {
    type        = "fanout"
    durable     = true
    auto_delete = false
  }

  lifecycle {
    precondition {
      condition     = try(local.topology.format, 0) == 1
      error_message = "The topology file is not of format 1, the one this module reads. Regenerate it with ./mvnw -q -Pmanifests process-test-classes, or use the module of the commit that wrote it."
    }
    precondition {
      condition     = var.topology_file != null || try(local.topology.descriptions_sha256, "") == local.descriptions_sha256
      error_message = "topology.json was not written from the function descriptions in functions/ as they are now: regenerate it with ./mvnw -q -Pmanifests process-test-classes (and commit it) before planning."
    }
  }
}

# <fn>: a direct exchange; the gate picks the partition of each event's key (Partitioning: jump consistent hash)
# and publishes with the partition's index as routing key. Not x-consistent-hash: that exchange's ring is
# rebuilt when a node boots and may then send a key to another partition, which reorders its events.
resource "rabbitmq_exchange" "function" {
  for_each = local.topology.exchanges
  name     = "${var.prefix}${each.value.name}"
  vhost    = local.vhost

  settings {
    type        = each.value.type
    durable     = true
    auto_delete = false
  }
}

# <fn>-<i>: partition queues (TopologySpec.partitionArguments): quorum, single active consumer, capped with
# reject-publish, dead-lettered at least once to <fn>.dlx, and a delivery limit against crash loops.
resource "rabbitmq_queue" "partition" {
  for_each = local.topology.partitions
  name     = "${var.prefix}${each.value.name}"
  vhost    = local.vhost

  settings {
    durable     = true
    auto_delete = false
    arguments_json = jsonencode(merge(each.value.arguments, {
      "x-dead-letter-exchange" = rabbitmq_exchange.dead_letter[each.value.function].name
    }))
  }
}

# Partition <fn>-<i> is bound with routing key "<i>" (Partitioning.routingKey).
resource "rabbitmq_binding" "partition" {
  for_each         = local.topology.partitions
  source           = rabbitmq_exchange.function[each.value.function].name
  vhost            = local.vhost
  destination      = rabbitmq_queue.partition[each.key].name
  destination_type = "queue"
  routing_key      = each.value.routing_key
}

# <fn>.dlx -> <fn>.dlq: events that cannot succeed, with their history (docs/failure-model.md "Failure model").
resource "rabbitmq_exchange" "dead_letter" {
  for_each = local.topology.dead_letter_exchanges
  name     = "${var.prefix}${each.value.name}"
  vhost    = local.vhost

  settings {
    type        = each.value.type
    durable     = true
    auto_delete = false
  }
}

# Classic, not quorum: operators browse it (get, then requeue) and a quorum queue would count each listing
# toward its delivery limit; bounded with reject-publish, so a full one refuses instead of dropping.
resource "rabbitmq_queue" "dead_letter" {
  for_each = local.topology.dead_letter_queues
  name     = "${var.prefix}${each.value.name}"
  vhost    = local.vhost

  settings {
    durable        = true
    auto_delete    = false
    arguments_json = jsonencode(each.value.arguments)
  }
}

resource "rabbitmq_binding" "dead_letter" {
  for_each         = local.topology.dead_letter_queues
  source           = rabbitmq_exchange.dead_letter[each.value.function].name
  vhost            = local.vhost
  destination      = rabbitmq_queue.dead_letter[each.key].name
  destination_type = "queue"
  routing_key      = ""
}

# retry.mode relaxed: <fn>.retry (headers) routes a failed event by its delay level to <fn>.retry-<k>, which
# holds it for the k-th backoff and then dead-letters it through the default exchange back to its partition.
resource "rabbitmq_exchange" "retry" {
  for_each = local.topology.retry_exchanges
  name     = "${var.prefix}${each.value.name}"
  vhost    = local.vhost

  settings {
    type        = each.value.type
    durable     = true
    auto_delete = false
  }
}

resource "rabbitmq_queue" "delay" {
  for_each = local.topology.delay_queues
  name     = "${var.prefix}${each.value.name}"
  vhost    = local.vhost

  settings {
    durable        = true
    auto_delete    = false
    arguments_json = jsonencode(each.value.arguments)
  }
}

resource "rabbitmq_binding" "delay" {
  for_each         = local.topology.delay_queues
  source           = rabbitmq_exchange.retry[each.value.function].name
  vhost            = local.vhost
  destination      = rabbitmq_queue.delay[each.key].name
  destination_type = "queue"
  routing_key      = ""
  arguments_json   = jsonencode(each.value.binding_arguments)
}

# Quorum queue leaders take the writes and deliveries of their queue. Without a locator each leader lands on
# the node the declaring client is connected to (client-local), so a topology applied through one node puts
# every partition's leader there and leaves the other nodes as followers; "balanced" spreads them. It is a
# policy, not a queue argument: the runtime verifies the queues' arguments exactly as TopologySpec has them,
# and a policy changes none of them. The pattern matches the quorum queues only (partitions, delay queues),
# not the classic dead-letter queues nor the runtime's lock and pause queues. Nothing else is set by policy:
# length limits, overflow, dead-lettering and delivery limits are queue arguments already, and a policy
# key for them would only compete with those (RabbitMQ then applies the lower limit).
resource "rabbitmq_policy" "quorum_leaders" {
  count = var.leader_locator_policy ? 1 : 0
  name  = "${var.prefix}eventline-quorum-leaders"
  vhost = local.vhost

  policy {
    pattern  = "^${local.prefix_re}${local.topology.quorum_queues}$"
    priority = var.policy_priority
    apply_to = "queues"
    definition = {
      "queue-leader-locator" = "balanced"
    }
  }
}
