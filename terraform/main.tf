# The broker topology of every function, read from its description functions/<name>/function.yaml: exactly
# what the runtime declares (src/main/java/dev/eventline/topology/TopologySpec.java), under the names of
# topology/Names.java. The runtime then only verifies it (EVENTLINE_TOPOLOGY_DECLARE=false). Not here, because
# they exist only while something runs: the partition locks <fn>-<i>.owner (exclusive queues of the instance
# owning the partition), the pause markers <fn>.paused (bin/eventline-admin pause) and the server-named
# amq.gen-* queues the progress reports are read from; users.tf lets the runtime create them.

locals {
  functions_dir = var.functions_dir != null ? var.functions_dir : "${path.module}/../functions"

  # Every description as written, keyed by its folder (the runtime requires name == folder: checked below).
  descriptions = {
    for f in fileset(local.functions_dir, "*/function.yaml") :
    dirname(f) => yamldecode(file("${local.functions_dir}/${f}"))
  }

  # The fields that shape the topology, null where omitted (no key, or an empty value).
  given = {
    for name, d in local.descriptions : name => {
      name            = try(d.name, null)
      partitions      = try(d.partitions, null)
      mode            = try(d.retry.mode, null)
      max_attempts    = try(d.retry.maxAttempts, null)
      initial_delay   = try(d.retry.initialDelayMs, null)
      multiplier      = try(d.retry.multiplier, null)
      max_delay       = try(d.retry.maxDelayMs, null)
      depth_soft      = try(d.limits.depth.soft, null)
      depth_hard      = try(d.limits.depth.hard, null)
      depth_ceiling   = try(d.limits.depth.ceiling, null)
      dead_letter_max = try(d.limits.deadLetterMax, null)
    }
  }

  # The runtime's defaults for omitted fields (config/DescriptionParser.java; docs/functions.md "Function descriptions").
  # Validation stays with the runtime, which refuses to start on an invalid description.
  fields = {
    for name, g in local.given : name => {
      partitions      = coalesce(g.partitions, 4)
      mode            = coalesce(g.mode, "strict")
      max_attempts    = coalesce(g.max_attempts, 5)
      initial_delay   = coalesce(g.initial_delay, 200)
      multiplier      = coalesce(g.multiplier, 2)
      max_delay       = coalesce(g.max_delay, max(10000, coalesce(g.initial_delay, 200)))
      depth_ceiling   = coalesce(g.depth_ceiling, 2 * coalesce(g.depth_hard, max(50000, coalesce(g.depth_soft, 10000))))
      dead_letter_max = coalesce(g.dead_letter_max, 100000)
    }
  }

  functions = {
    for name, f in local.fields : name => merge(f, {
      # FunctionDescription.partitionMaxLength(): ceil(ceiling / P)
      partition_max_length = ceil(f.depth_ceiling / f.partitions)
      # TopologySpec.deliveryLimit(): maxAttempts + 5
      delivery_limit = f.max_attempts + 5
      # Retry.delayAfter(k), k = 1 .. maxAttempts - 1 (at least 1): min(maxDelay, initial * multiplier^(k-1)), whole ms
      delays = [
        for k in range(1, max(2, f.max_attempts)) :
        floor(min(f.max_delay, f.initial_delay * pow(f.multiplier, k - 1)))
      ]
    })
  }

  # Retry.delayLevels(): one delay queue per wait, stopping at the first wait that does not grow.
  delay_levels = {
    for name, f in local.functions : name => concat(
      [for i in range(length(f.delays) - 1) : i + 1 if f.delays[i] >= f.delays[i + 1]],
      [length(f.delays)]
    )[0]
  }

  relaxed = { for name, f in local.functions : name => f if f.mode == "relaxed" }

  # topology/Names.java
  status_exchange = "${var.prefix}eventline.status"
  names = {
    for name, f in local.functions : name => {
      exchange             = "${var.prefix}${name}"
      partitions           = [for i in range(f.partitions) : "${var.prefix}${name}-${i}"]
      dead_letter_exchange = "${var.prefix}${name}.dlx"
      dead_letter_queue    = "${var.prefix}${name}.dlq"
      retry_exchange       = "${var.prefix}${name}.retry"
      delay_queues         = [for k in range(1, local.delay_levels[name] + 1) : "${var.prefix}${name}.retry-${k}"]
    }
  }

  partitions = {
    for p in flatten([
      for name, f in local.functions : [for i in range(f.partitions) : { function = name, index = i }]
    ]) : "${p.function}-${p.index}" => p
  }

  delay_queues = {
    for q in flatten([
      for name, f in local.relaxed : [
        for k in range(1, local.delay_levels[name] + 1) : { function = name, level = k, ttl = max(1, f.delays[k - 1]) }
      ]
    ]) : "${q.function}.retry-${q.level}" => q
  }

  # The provider reads arguments_json into float64: larger whole numbers would reach the broker changed.
  max_exact_number = pow(2, 53)

  vhost = var.create_vhost ? rabbitmq_vhost.this[0].name : var.vhost
}

resource "rabbitmq_vhost" "this" {
  count = var.create_vhost ? 1 : 0
  name  = var.vhost
}

# The status exchange (broker/StatusExchange.java): every process running a function publishes its progress
# here; gates and the function's other instances read it. Durable fanout; with EVENTLINE_TOPOLOGY_DECLARE=false
# the runtime only checks that it exists (passive), so its users need no configure right on it.
resource "rabbitmq_exchange" "status" {
  name  = local.status_exchange
  vhost = local.vhost

  settings {
    type        = "fanout"
    durable     = true
    auto_delete = false
  }

  lifecycle {
    precondition {
      condition     = length(local.functions) > 0
      error_message = "No function descriptions (<name>/function.yaml) found in ${local.functions_dir}."
    }
  }
}

# <fn>: a direct exchange; the gate picks the partition of each event's key (Partitioning: jump consistent hash)
# and publishes with the partition's index as routing key. Not x-consistent-hash: that exchange's ring is
# rebuilt when a node boots and may then send a key to another partition, which reorders its events.
resource "rabbitmq_exchange" "function" {
  for_each = local.functions
  name     = local.names[each.key].exchange
  vhost    = local.vhost

  settings {
    type        = "direct"
    durable     = true
    auto_delete = false
  }

  lifecycle {
    precondition {
      condition     = local.given[each.key].name == each.key
      error_message = "functions/${each.key}/function.yaml: the name must equal its folder name '${each.key}'."
    }
    precondition {
      condition     = contains(["strict", "relaxed"], local.functions[each.key].mode)
      error_message = "functions/${each.key}/function.yaml: retry.mode must be strict or relaxed."
    }
    # The runtime's name rule (config/DescriptionParser.java): the names go into the users' permission regexes
    # (users.tf) and into Kubernetes names. A name ending in -<n> is a partition queue of another function, a '.'
    # would reach another function's <fn>.dlx, a regex metacharacter would widen a regex, and amq.* is the broker's.
    precondition {
      condition     = length(each.key) <= 40 && can(regex("^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$", each.key)) && !can(regex("-[0-9]+$", each.key)) && !contains(["amq", "gate"], each.key)
      error_message = "Function '${each.key}': a name must be 1-40 characters matching [a-z][a-z0-9]*(-[a-z0-9]+)*, must not end in -<digits> (the name of another function's partition queue) and must not be amq or gate."
    }
    precondition {
      condition     = local.functions[each.key].depth_ceiling <= local.max_exact_number && local.functions[each.key].dead_letter_max <= local.max_exact_number
      error_message = "functions/${each.key}/function.yaml: limits.depth.ceiling and limits.deadLetterMax must not exceed 2^53 here (the provider passes queue arguments as float64)."
    }
  }
}

# <fn>-<i>: partition queues (TopologySpec.partitionArguments): quorum, single active consumer, capped with
# reject-publish, dead-lettered at least once to <fn>.dlx, and a delivery limit against crash loops.
resource "rabbitmq_queue" "partition" {
  for_each = local.partitions
  name     = local.names[each.value.function].partitions[each.value.index]
  vhost    = local.vhost

  settings {
    durable        = true
    auto_delete    = false
    arguments_json = jsonencode({
      "x-queue-type"             = "quorum"
      "x-single-active-consumer" = true
      "x-max-length"             = local.functions[each.value.function].partition_max_length
      "x-overflow"               = "reject-publish"
      "x-dead-letter-exchange"   = rabbitmq_exchange.dead_letter[each.value.function].name
      "x-dead-letter-strategy"   = "at-least-once"
      "x-delivery-limit"         = local.functions[each.value.function].delivery_limit
    })
  }
}

# Partition <fn>-<i> is bound with routing key "<i>" (Partitioning.routingKey).
resource "rabbitmq_binding" "partition" {
  for_each         = local.partitions
  source           = rabbitmq_exchange.function[each.value.function].name
  vhost            = local.vhost
  destination      = rabbitmq_queue.partition[each.key].name
  destination_type = "queue"
  routing_key      = "${each.value.index}"
}

# <fn>.dlx -> <fn>.dlq: events that cannot succeed, with their history (docs/failure-model.md "Failure model").
resource "rabbitmq_exchange" "dead_letter" {
  for_each = local.functions
  name     = local.names[each.key].dead_letter_exchange
  vhost    = local.vhost

  settings {
    type        = "fanout"
    durable     = true
    auto_delete = false
  }
}

# Classic, not quorum: operators browse it (get, then requeue) and a quorum queue would count each listing
# toward its delivery limit; bounded with reject-publish, so a full one refuses instead of dropping.
resource "rabbitmq_queue" "dead_letter" {
  for_each = local.functions
  name     = local.names[each.key].dead_letter_queue
  vhost    = local.vhost

  settings {
    durable        = true
    auto_delete    = false
    arguments_json = jsonencode({
      "x-queue-type" = "classic"
      "x-max-length" = local.functions[each.key].dead_letter_max
      "x-overflow"   = "reject-publish"
    })
  }
}

resource "rabbitmq_binding" "dead_letter" {
  for_each         = local.functions
  source           = rabbitmq_exchange.dead_letter[each.key].name
  vhost            = local.vhost
  destination      = rabbitmq_queue.dead_letter[each.key].name
  destination_type = "queue"
  routing_key      = ""
}

# retry.mode relaxed: <fn>.retry (headers) routes a failed event by its delay level to <fn>.retry-<k>, which
# holds it for the k-th backoff and then dead-letters it through the default exchange back to its partition.
resource "rabbitmq_exchange" "retry" {
  for_each = local.relaxed
  name     = local.names[each.key].retry_exchange
  vhost    = local.vhost

  settings {
    type        = "headers"
    durable     = true
    auto_delete = false
  }
}

resource "rabbitmq_queue" "delay" {
  for_each = local.delay_queues
  name     = local.names[each.value.function].delay_queues[each.value.level - 1]
  vhost    = local.vhost

  settings {
    durable        = true
    auto_delete    = false
    arguments_json = jsonencode({
      "x-queue-type"           = "quorum"
      "x-message-ttl"          = each.value.ttl
      "x-dead-letter-exchange" = ""
      "x-dead-letter-strategy" = "at-least-once"
      "x-overflow"             = "reject-publish"
      "x-max-length"           = local.functions[each.value.function].depth_ceiling
    })
  }
}

resource "rabbitmq_binding" "delay" {
  for_each         = local.delay_queues
  source           = rabbitmq_exchange.retry[each.value.function].name
  vhost            = local.vhost
  destination      = rabbitmq_queue.delay[each.key].name
  destination_type = "queue"
  routing_key      = ""
  arguments_json   = jsonencode({
    "x-match"               = "all"
    "eventline-delay-level" = tostring(each.value.level)
  })
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
    pattern  = "^${local.prefix_re}${local.any_function}(?:-\\d+|\\.retry-\\d+)$"
    priority = var.policy_priority
    apply_to = "queues"
    definition = {
      "queue-leader-locator" = "balanced"
    }
  }
}
