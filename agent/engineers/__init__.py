"""Engineers propose solution code; the harness judges it. See `base.Engineer`."""
