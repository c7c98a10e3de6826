"""Reports from the runs: metric tables (the paper's Tables 1-4), figures and the run summary."""
