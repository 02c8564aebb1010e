SELECT secret FROM gaffer_secrets WHERE name = 'callback_tokens'
