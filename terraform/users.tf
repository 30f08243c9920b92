# Users with least privilege: one per function (the process running that function's queue trigger, gate off)
# and one for the gate (which also serves the admin endpoints). RabbitMQ checks a user's three regexes against
# the name of the exchange or queue an operation touches:
#   configure  queue.declare (not passive), queue.delete, exchange.declare (not passive)
#   write      basic.publish (the exchange), queue.bind and queue.unbind (the queue)
#   read       basic.consume and basic.get (the queue), queue.bind and queue.unbind (the exchange)
# Passive declares (existence checks, queue depths) need no permission. Declaring a new queue with a
# dead-letter exchange also needs read on the queue and write on that exchange (only at creation).
#
# What the runtime does (src/main/java/dev/eventline), and the grant it needs:
#   both    status exchange <p>eventline.status checked at start (passive) ................... -
#           reports read from it: server-named exclusive queue amq.gen-*, bound, consumed ... configure, write,
#                                                                                          read amq.gen-*; read status
#           topology verified: passive declares, then a re-declare that compares arguments . configure only with
#                                                                                          runtime_verifies_topology
#                                                                                          (refused: existence only)
#   function consume its partitions <p><fn>-<i> ............................................ read
#           partition locks <p><fn>-<i>.owner, exclusive, declared and deleted ............. configure
#           dead-letter copies to <p><fn>.dlx, relaxed-mode retries to <p><fn>.retry ....... write
#           parked mode: exchange <p><fn>.parking, held-key lists <p><fn>-<i>.held(-view) and
#           parked queues <p><fn>-<i>.parked.<hash>, declared, bound, published to, read,
#           deleted ........................................................... configure, write, read
#           progress reports to the status exchange ........................................ write
#   gate    events and dead-letter replays published to <p><fn> ............................ write
#           admin: list, replay, purge <p><fn>.dlq (basic.get, ack) ........................ read
#           admin: held keys of parked mode, <p><fn>-<i>.held-view (basic.get, given back) . read
#           admin: pause and resume, declare and delete <p><fn>.paused ..................... configure
# So a function's user cannot consume, lock or dead-letter another function's partitions, nor publish events;
# the gate cannot consume partitions (unless gate_may_repartition).

locals {
  # The names each role may configure, write and read come from topology.json, as regexes relative to the prefix
  # and by grant: always, or only with the variable of that name (src/test/java/dev/eventline/deploy/TopologyFile.java
  # writes them from the list above). Function names there are already quoted; the prefix holds only
  # [A-Za-z0-9._-] (variables.tf), so '.' is its only regex metacharacter. Every regex is anchored at both ends:
  # one function's regexes cannot match another's names, even where one name starts with the other (pay, pay-out).
  prefix_re = replace(var.prefix, ".", "\\.")
  # the order the granted pieces join in (a map's keys would come sorted)
  grants = ["always", "admin_enabled", "runtime_verifies_topology", "gate_may_repartition"]
  granted = {
    always                    = true
    admin_enabled             = var.admin_enabled
    gate_may_repartition      = var.gate_may_repartition
    runtime_verifies_topology = var.runtime_verifies_topology
  }

  # One anchored regex per operation: a prefixed name of the granted pieces, or a server-named queue.
  permissions = {
    for role, ops in local.topology.permissions : role => {
      for op, pieces in ops : op => "^(?:${local.prefix_re}(?:${join("|", distinct(flatten([for g in local.grants : pieces[g] if local.granted[g]])))})|amq\\.gen-.*)$"
    }
  }

  user_names = { for role in keys(local.topology.permissions) : role => "${var.user_name_prefix}${role}" }
}

resource "rabbitmq_user" "gate" {
  count    = var.create_users ? 1 : 0
  name     = local.user_names.gate
  password = var.gate_password

  lifecycle {
    precondition {
      condition     = var.gate_password != null && var.gate_password != ""
      error_message = "Set gate_password (or create_users = false)."
    }
  }
}

resource "rabbitmq_permissions" "gate" {
  count = var.create_users ? 1 : 0
  user  = rabbitmq_user.gate[0].name
  vhost = local.vhost

  permissions {
    configure = local.permissions.gate.configure
    write     = local.permissions.gate.write
    read      = local.permissions.gate.read
  }
}

resource "rabbitmq_user" "function" {
  for_each = { for name, f in local.topology.functions : name => f if var.create_users }
  name     = local.user_names["fn-${each.key}"]
  password = lookup(var.function_passwords, each.key, null)

  lifecycle {
    precondition {
      condition     = lookup(var.function_passwords, each.key, "") != ""
      error_message = "Set function_passwords[\"${each.key}\"] (or create_users = false)."
    }
  }
}

resource "rabbitmq_permissions" "function" {
  for_each = { for name, f in local.topology.functions : name => f if var.create_users }
  user     = rabbitmq_user.function[each.key].name
  vhost    = local.vhost

  permissions {
    configure = local.permissions["fn-${each.key}"].configure
    write     = local.permissions["fn-${each.key}"].write
    read      = local.permissions["fn-${each.key}"].read
  }
}

# KEDA's RabbitMQ scaler (functions/<fn>/deploy/keda.yaml) reads queue depths from the management API. The tag
# management lets it use the HTTP API for the vhosts it has permissions on; its permissions match no name, so
# it can neither publish nor consume nor declare anything.
resource "rabbitmq_user" "keda" {
  count    = var.create_keda_user ? 1 : 0
  name     = "${var.user_name_prefix}keda"
  password = var.keda_password
  tags     = ["management"]

  lifecycle {
    precondition {
      condition     = var.keda_password != null && var.keda_password != ""
      error_message = "Set keda_password (or create_keda_user = false)."
    }
  }
}

resource "rabbitmq_permissions" "keda" {
  count = var.create_keda_user ? 1 : 0
  user  = rabbitmq_user.keda[0].name
  vhost = local.vhost

  permissions {
    configure = "^$"
    write     = "^$"
    read      = "^$"
  }
}
