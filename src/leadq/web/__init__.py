"""Server-rendered pages for sales and marketing: inbox, lead card, dashboards, models."""
