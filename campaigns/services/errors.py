class DomainError(Exception):
    """A request the product refuses; the message is shown to the marketer."""
