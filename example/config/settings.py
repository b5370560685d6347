SECRET_KEY = "example"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "shop",
    "billing",
]
ROOT_URLCONF = "config.urls"
