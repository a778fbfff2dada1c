"""Services: the use cases that handlers and jobs call, each owning its transaction."""
