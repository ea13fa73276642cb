DROP TABLE revoked_sessions;
DROP TABLE login_failures;
DROP TABLE preference_settings;
