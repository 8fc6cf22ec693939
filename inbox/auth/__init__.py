"""Who gets in and what they see: sign-in and sign-out, django-axes' throttling of failed sign-ins
and the admins' page of lock-outs, and the permission rule of the admin pages.
"""
