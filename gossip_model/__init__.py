"""gossip-model: executable reference of the Gossip persistence layer."""
