"""The queries and changes of each domain, taking the session first."""
