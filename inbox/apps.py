from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Help-desk inbox"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from inbox.auth import throttle

        user_logged_in.connect(throttle.log_sign_in, dispatch_uid="inbox-log-sign-in")
        user_locked_out.connect(throttle.log_lockout, dispatch_uid="inbox-log-lockout")
