"""Reference protocols, written to be read: each is a pure :class:`distlib.node.Node` subclass."""
