"""Assessment domain: framework versions, questions, rounds, responses."""
