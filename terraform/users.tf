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
#           progress reports to the status exchange ........................................ write
#   gate    events and dead-letter replays published to <p><fn> ............................ write
#           admin: list, replay, purge <p><fn>.dlq (basic.get, ack) ........................ read
#           admin: pause and resume, declare and delete <p><fn>.paused ..................... configure
# So a function's user cannot consume, lock or dead-letter another function's partitions, nor publish events;
# the gate cannot consume partitions (unless gate_may_repartition).

locals {
  # Every name that goes into a regex, quoted: each RE2 metacharacter escaped (Terraform has no quoting function;
  # the backslash goes first). Function names follow the runtime's rule, checked in main.tf: words of [a-z0-9]
  # joined by single '-', never ending in -<digits> (the name of another function's partition queue) and without
  # '.' (the separator of <fn>.dlx and the like); the prefix holds only [A-Za-z0-9._-] (variables.tf). So today
  # only the prefix's '.' changes, and every regex below is anchored at both ends: one function's regexes cannot
  # match another's names, even where one name starts with the other (pay, pay-out).
  quoted = {
    for s in distinct(concat([var.prefix], keys(local.functions))) : s => replace(replace(replace(replace(replace(
      replace(replace(replace(replace(replace(replace(replace(replace(replace(s, "\\", "\\\\"), ".", "\\."),
      "+", "\\+"), "*", "\\*"), "?", "\\?"), "(", "\\("), ")", "\\)"), "|", "\\|"), "[", "\\["), "]", "\\]"),
      "{", "\\{"), "}", "\\}"), "^", "\\^"), "$", "\\$")
  }
  prefix_re    = local.quoted[var.prefix]
  fn_re        = { for name in keys(local.functions) : name => local.quoted[name] }
  any_function = "(?:${join("|", values(local.fn_re))})"

  # every exchange and queue of a function's topology, as a regex relative to the prefix
  topology_re = {
    for name, f in local.functions : name => (
      f.mode == "relaxed" ? "${local.fn_re[name]}(?:-\\d+|\\.dlx|\\.dlq|\\.retry|\\.retry-\\d+)?" : "${local.fn_re[name]}(?:-\\d+|\\.dlx|\\.dlq)?"
    )
  }
  verify_topology = var.runtime_verifies_topology ? values(local.topology_re) : []
  repartition     = var.gate_may_repartition ? values(local.topology_re) : []

  # Names each role may configure, write and read, relative to the prefix.
  access = merge(
    {
      gate = {
        configure = concat(
          var.admin_enabled ? ["${local.any_function}\\.paused"] : [],
          distinct(concat(local.verify_topology, local.repartition)),
        )
        write = concat([local.any_function], local.repartition)
        read = concat(
          ["eventline\\.status"],
          var.admin_enabled ? ["${local.any_function}\\.dlq"] : [],
          local.repartition,
        )
      }
    },
    {
      for name, f in local.functions : "fn-${name}" => {
        configure = concat(["${local.fn_re[name]}-\\d+\\.owner"], local.verify_topology)
        write     = concat(["eventline\\.status", "${local.fn_re[name]}\\.dlx"], f.mode == "relaxed" ? ["${local.fn_re[name]}\\.retry"] : [])
        read      = ["eventline\\.status", "${local.fn_re[name]}-\\d+"]
      }
    }
  )

  # One anchored regex per operation: a prefixed name of the list, or a server-named queue.
  permissions = {
    for role, a in local.access : role => {
      for op, names in a : op => "^(?:${local.prefix_re}(?:${join("|", names)})|amq\\.gen-.*)$"
    }
  }

  user_names = { for role, a in local.access : role => "${var.user_name_prefix}${role}" }
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
  for_each = { for name, f in local.functions : name => f if var.create_users }
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
  for_each = { for name, f in local.functions : name => f if var.create_users }
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
