"""Pages about what ran: `run_report` writes one self-contained HTML page per local pipeline run."""
