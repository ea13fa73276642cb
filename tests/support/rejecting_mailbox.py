"""An aiosmtpd handler for tests: stores mail in a Maildir like aiosmtpd's Mailbox, but
refuses for good (550) every recipient whose address contains a given text."""
from aiosmtpd.handlers import Mailbox


class RejectingMailbox(Mailbox):
    def __init__(self, mail_dir, refuse):
        super().__init__(mail_dir)
        self.refuse = refuse

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 2:
            parser.error("usage: RejectingMailbox MAILDIR TEXT_TO_REFUSE")
        return cls(args[0], args[1])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse in address:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
