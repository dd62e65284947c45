"""`make bench`: the real server driven over loopback sockets, next to floors measured in the same run."""
