# Install rules: filled in by the core work.
