DROP TRIGGER consent_events_no_delete;
DROP TRIGGER consent_events_no_update;
DROP TABLE consent_events;
DROP TABLE opt_outs;
