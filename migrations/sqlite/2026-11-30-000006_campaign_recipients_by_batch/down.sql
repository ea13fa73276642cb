DROP INDEX campaign_recipients_batch;
