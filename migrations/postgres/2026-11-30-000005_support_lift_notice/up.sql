-- Support's confirmation to the staff member who asked it to lift opt-outs goes through the
-- outbox like every email: the kind CHECK must allow it.
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check
    CHECK (kind IN ('campaign', 'opt_out_confirmation', 'opt_in_request', 'support_lift_notice'));
