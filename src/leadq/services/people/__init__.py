"""People: the users who sign in and their roles, API keys, what each role may do and which leads
a rep may see, and the workspace's own secrets."""
