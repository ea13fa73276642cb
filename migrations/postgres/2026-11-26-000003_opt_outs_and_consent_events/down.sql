DROP TABLE consent_events;
DROP FUNCTION consent_events_refuse_change();
DROP TABLE opt_outs;
