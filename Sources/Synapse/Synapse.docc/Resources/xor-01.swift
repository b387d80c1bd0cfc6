import Synapse

Random.seed(42)
