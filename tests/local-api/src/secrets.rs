//! Secrets as a deployer stores them (a region's credential), in moto's Secrets Manager locally.

/// Creates the secret `name` holding `value`, or gives an existing one that value.
pub async fn put(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) -> Result<(), String> {
    use aws_sdk_secretsmanager::error::DisplayErrorContext as Describe;
    match client.create_secret().name(name).secret_string(value).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("secret {name}: {}", Describe(&e))),
        Err(e) => Err(format!("secret {name}: {}", Describe(&e))),
    }
}
