-- The dialog after adding recipients reads one submission's rows (they share `added_at`) by
-- its address (`/campaigns/{id}?added=…`), on every reload: without this it walked every
-- recipient of the campaign.
CREATE INDEX campaign_recipients_batch ON campaign_recipients (campaign_id, added_at);
