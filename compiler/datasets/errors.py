"""The one error every dataset reader raises."""


class DatasetError(Exception):
    """A missing or corrupt dataset: the message says where it looked and how to get it."""
