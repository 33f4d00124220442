"""Generated protobuf and gRPC modules for Katib's v1beta1 Suggestion API (``make proto``)."""
