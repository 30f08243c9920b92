terraform {
  # preconditions (1.2) and the functions used here are all in Terraform 1.3
  required_version = ">= 1.3"

  required_providers {
    rabbitmq = {
      source  = "cyrilgdn/rabbitmq"
      version = "~> 1.10"
    }
  }
}
