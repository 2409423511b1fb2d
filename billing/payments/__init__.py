"""Payments and refunds: card payments through a gateway, cash and bank transfers recorded by staff."""
