"""The webhooks the providers call (an interface): check the signature, parse with the
provider's adapter, hand the batch to the inbound flow, shape the answer."""
