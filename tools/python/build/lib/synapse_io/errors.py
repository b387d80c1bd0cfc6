"""The one error type: it names the file, the place in it and what was expected."""


class SynapseFileError(ValueError):
    """A Synapse file that is missing, malformed or inconsistent."""

    def __init__(self, path, place, problem):
        super().__init__(f"{path}: {place}: {problem}")
        self.path, self.place, self.problem = str(path), place, problem
