"""The public URLs (README.md, "Pages"). Each views module owns its own patterns."""

from inbox.accounts import views as accounts
from inbox.auth import views as auth
from inbox.exports import views as export
from inbox.mailbox import customer_views as customers
from inbox.mailbox import message_views as message
from inbox.mailbox import views as mailbox
from inbox.ops import healthz
from inbox.sync import views as sync

urlpatterns = [
    *auth.urlpatterns,
    *mailbox.urlpatterns,
    *message.urlpatterns,
    *customers.urlpatterns,
    *export.urlpatterns,
    *accounts.urlpatterns,
    *sync.urlpatterns,
    *healthz.urlpatterns,
]
