"""The HTTP endpoints, one module per area: documents, jobs, tools, system information and the web app."""
