"""Runtime settings: values admins change without a restart, stored in `app_setting`."""
