"""Notifications: sends the product's email through the email port."""
