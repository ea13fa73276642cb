DROP TABLE campaign_recipients;
DROP TABLE messages;
DROP TABLE campaigns;
DROP TABLE contacts;
