"""The public URLs of the contract (DESIGN.md). Each views module owns its own patterns."""

from inbox.views import accounts, auth, export, health, lockouts, mailbox, message, sync

urlpatterns = [
    *auth.urlpatterns,
    *mailbox.urlpatterns,
    *message.urlpatterns,
    *export.urlpatterns,
    *accounts.urlpatterns,
    *sync.urlpatterns,
    *lockouts.urlpatterns,
    *health.urlpatterns,
]
