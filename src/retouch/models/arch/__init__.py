"""Our own nn.Module implementations of the networks whose official weights Retouch loads."""
