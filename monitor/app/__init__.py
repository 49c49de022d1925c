"""The application layer: every operation a person or the scheduler triggers, one function each
over plain types. The CLI, the scheduler and the dashboard call these and present the result."""
