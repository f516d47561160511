"""Exchange formats: PyPSA CSV folders in and out, MATPOWER cases in."""
