DELETE FROM messages WHERE kind = 'support_lift_notice';
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check
    CHECK (kind IN ('campaign', 'opt_out_confirmation', 'opt_in_request'));
