"""Everything that runs: config, CLI, server, pipeline, group-commit writer, publisher."""
